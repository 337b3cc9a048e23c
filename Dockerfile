# One image for the API, the worker, the migrations and the development issuers.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm install (not ci): the lock file was made against a mirror that lacks other platforms' optional binaries.
RUN SCARF_ANALYTICS=false npm install --no-save --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./
COPY --from=build /app/ci ./ci
# Audit checkpoints and development keys live here, in a volume owned by the user the processes run as.
RUN mkdir -p /var/lib/airlock && chown node /var/lib/airlock
USER node
CMD ["node", "dist/apps/api/main.js"]

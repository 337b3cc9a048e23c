// The `seed` service of docker-compose.dev.yml: once the API is ready, pushes and signs the sample
// image and creates the `production` environment, as scripts/start.sh does on one machine.
import { seedDevelopment } from './seed';

const env = process.env;

function required(name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const options = {
  apiUrl: required('SEED_API_URL'),
  peopleIssuer: required('SEED_PEOPLE_ISSUER'),
  stagingHost: required('SEED_STAGING_REGISTRY'),
  prodHost: required('SEED_PROD_REGISTRY'),
  releaseKeyFile: required('SEED_RELEASE_KEY_FILE'),
};

seedDevelopment(options).then(
  ({ sampleDigest }) => {
    console.log(
      `seeded: ${options.stagingHost}/acme/app:1.0.0 (${sampleDigest}), signed; environments dev → staging → production (${options.prodHost})`,
    );
  },
  (e: unknown) => {
    console.error(`seeding failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);

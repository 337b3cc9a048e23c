// oidc-provider ships no type declarations (and @types/oidc-provider is not a dependency). These are the
// few parts the development issuer uses, typed just precisely enough for strict mode. Kept as an ambient
// module (no top-level import) so that it declares the package rather than augmenting it.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** The Koa context as the development issuer touches it. */
  export interface ProviderContext {
    readonly method: string;
    readonly path: string;
    readonly req: IncomingMessage & { body?: unknown };
    status: number;
    body: unknown;
    is(...types: string[]): string | false | null;
  }

  export interface ClientModel {
    readonly clientId: string;
  }

  /** `ctx` as handed to configuration helpers during a request. */
  export interface OidcContext extends ProviderContext {
    readonly oidc: {
      readonly params?: Readonly<Record<string, unknown>>;
      readonly client?: ClientModel;
    };
  }

  export interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenTTL?: number;
    accessTokenFormat?: 'opaque' | 'jwt';
    jwt?: { sign?: { alg?: string; kid?: string } };
  }

  export interface IssuedToken {
    readonly clientId: string;
    readonly scope?: string;
    readonly resourceServer?: { readonly accessTokenTTL?: number; readonly audience?: string };
  }

  export interface StructuredJwt {
    header: Record<string, unknown> | undefined;
    payload: Record<string, unknown>;
  }

  export interface ClientMetadata {
    client_id: string;
    client_secret: string;
    grant_types: string[];
    response_types: string[];
    redirect_uris: string[];
    token_endpoint_auth_method?: string;
    scope?: string;
  }

  export interface Configuration {
    clients: ClientMetadata[];
    jwks: { keys: Record<string, unknown>[] };
    clientDefaults?: Partial<Omit<ClientMetadata, 'client_id' | 'client_secret'>> & {
      id_token_signed_response_alg?: string;
    };
    clientBasedCORS?: (ctx: OidcContext, origin: string, client: ClientModel) => boolean;
    features: {
      devInteractions?: { enabled: boolean };
      clientCredentials?: { enabled: boolean };
      introspection?: { enabled: boolean };
      revocation?: { enabled: boolean };
      resourceIndicators?: {
        enabled: boolean;
        defaultResource?: (
          ctx: OidcContext,
          client: ClientModel,
          oneOf?: string[],
        ) => Promise<string | string[] | undefined>;
        useGrantedResource?: (ctx: OidcContext, model: unknown) => Promise<boolean>;
        getResourceServerInfo?: (
          ctx: OidcContext,
          resourceIndicator: string,
          client: ClientModel,
        ) => Promise<ResourceServerInfo>;
      };
    };
    extraTokenClaims?: (ctx: OidcContext, token: IssuedToken) => Promise<Record<string, unknown> | undefined>;
    formats?: {
      customizers?: {
        jwt?: (ctx: OidcContext, token: IssuedToken, jwt: StructuredJwt) => Promise<void>;
      };
    };
    ttl?: Record<string, (ctx: OidcContext, token: IssuedToken, client: ClientModel) => number>;
  }

  export type Middleware = (ctx: ProviderContext, next: () => Promise<void>) => Promise<void>;

  export class Provider {
    constructor(issuer: string, configuration: Configuration);
    readonly issuer: string;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: Middleware): this;
    on(event: string, listener: (ctx: ProviderContext, error: unknown) => void): this;
    pathFor(name: string): string;
  }

  export const errors: {
    InvalidTarget: new (description?: string) => Error;
  };

  export default Provider;
}

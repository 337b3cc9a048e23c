// The API as a bench's set-up calls it: bearer token, JSON in and out, and any status but 2xx an
// error with the answer's text (set-up steps must succeed; what is measured calls fetch itself).

export interface Api {
  call<T = any>(method: string, path: string, token: string, body?: unknown): Promise<T>;
}

export function api(baseUrl: string): Api {
  return {
    async call(method, path, token, body) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as never;
    },
  };
}

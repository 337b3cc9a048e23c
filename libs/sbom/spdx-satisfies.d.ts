declare module 'spdx-satisfies' {
  /** Whether the SPDX expression can be satisfied by the approved licenses (ids, `X+`, `X WITH Y`). */
  function satisfies(expression: string, approved: string[]): boolean;
  export = satisfies;
}

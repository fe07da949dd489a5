// asl-validator ships no type declarations; this is the part of its API infra/validate/asl.ts uses.
declare module 'asl-validator' {
  /** A transition or path error (`Error code`, `Message`), or an Ajv schema error (`message`, `instancePath`). */
  type AslError = { 'Error code'?: string; Message?: string; message?: string; instancePath?: string };
  export default function aslValidator(definition: object): { isValid: boolean; errors: AslError[] };
}

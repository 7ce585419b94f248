/**
 * What a sealed task token is bound to (shared/token-seal.ts), apart from
 * the KMS calls, so the opener imports no Encrypt and the sealer no Decrypt.
 */
export interface TokenContext {
  readonly incidentId: string;
  readonly step: string;
}

/** KMS's encryption context for a token: every value a string. */
export function encryptionContext(context: TokenContext): Record<string, string> {
  return { incidentId: context.incidentId, step: context.step };
}

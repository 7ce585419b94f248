import type { TokenOpener } from '../../functions/responder-api/token-opener.js';
import type { TokenContext, TokenSeal } from '../../functions/shared/token-seal.js';

/**
 * A local stand-in for the token key, for unit tests: a sealed token does
 * not contain the token, and opens only for the context it was sealed for
 * (as KMS's encryption context). Not encryption: a test double.
 */
export function localTokens(): TokenSeal & TokenOpener {
  const key = (context: TokenContext) => `${context.incidentId}/${context.step}`;
  return {
    seal: async (token, context) =>
      `sealed:${Buffer.from(JSON.stringify({ to: key(context), token })).toString('base64')}`,
    open: async (sealed, context) => {
      const { to, token } = JSON.parse(
        Buffer.from(sealed.replace(/^sealed:/, ''), 'base64').toString('utf8'),
      ) as { to: string; token: string };
      if (to !== key(context)) {
        throw Object.assign(new Error('encryption context differs'), {
          name: 'InvalidCiphertextException',
        });
      }
      return token;
    },
  };
}

import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { GUARDRAILS_PARTITION_KEY, GUARDRAILS_TTL_ATTRIBUTE } from '../shared/breaker.js';
import { classifyAwsError } from '../shared/errors.js';
import { sha256Hex } from '../shared/hash.js';
import { type CheckedProof, PROOF_MAX_SKEW_MS } from './caller-proof.js';

/**
 * Single use for caller proofs: STS accepts a signed request again and again
 * within its clock window, so the responder API records each proof's
 * signature (a digest of it) with a conditional put in the guardrails table
 * before it asks STS, and refuses one it has seen. The record expires (TTL)
 * once the proof is too old to be accepted anyway.
 */
export const PROOF_KEY_PREFIX = 'proof#';

export class ProofReplayGuard {
  constructor(
    private readonly deps: { readonly client: DynamoDBDocumentClient; readonly tableName: string },
  ) {}

  /** Records the proof; false when it was used before. */
  async firstUse(proof: CheckedProof): Promise<boolean> {
    const expires = proof.signedAt.getTime() + 2 * PROOF_MAX_SKEW_MS;
    try {
      await this.deps.client.send(
        new PutCommand({
          TableName: this.deps.tableName,
          Item: {
            [GUARDRAILS_PARTITION_KEY]: `${PROOF_KEY_PREFIX}${sha256Hex(proof.signature)}`,
            [GUARDRAILS_TTL_ATTRIBUTE]: Math.ceil(expires / 1000),
          },
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': GUARDRAILS_PARTITION_KEY },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      throw classifyAwsError(error, 'record caller proof');
    }
  }
}

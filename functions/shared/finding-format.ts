/**
 * Security Hub files a finding under a product ARN of one of two forms:
 * `.../product/<company>/<product>` for the AWS Security Finding Format
 * (ASFF, Security Hub CSPM) and `.../productv2/<company>/<product>` for
 * OCSF (Security Hub). The form says which API reads and updates it.
 */
const OCSF_PRODUCT = /^arn:[\w-]+:securityhub:[a-z0-9-]*::productv2\//;

/** True when the finding is Security Hub's OCSF form (GetFindingsV2, BatchUpdateFindingsV2). */
export function isOcsfProduct(productArn: string | undefined): boolean {
  return productArn !== undefined && OCSF_PRODUCT.test(productArn);
}

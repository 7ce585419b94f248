import type { AsffFinding } from './schemas/asff.js';
import { DATA_EXPOSURE_TYPE } from './schemas/asff.js';

/**
 * Which Security Hub findings on a bucket say it is exposed, so that
 * s3-exposure may block its public access (every one of its steps waits for
 * a responder by default). The findings users have are mostly not
 * `Effects/Data Exposure` ones: they are Security Hub controls failing on
 * the bucket, IAM Access Analyzer's external-access findings, and Macie's
 * policy findings. Every other configuration check stays out, and the rules
 * filter those before a state machine starts.
 */

/**
 * Controls whose failure means public access: S3.2 (public read), S3.3
 * (public write), S3.8 (bucket-level Block Public Access off), S3.19 (an
 * access point's Block Public Access off). S3.1 is account-level: no bucket
 * to act on.
 */
export const PUBLIC_BUCKET_CONTROLS = ['S3.2', 'S3.3', 'S3.8'] as const;
export const PUBLIC_ACCESS_POINT_CONTROL = 'S3.19';

/** AWS's own products, by the ARN Security Hub gives them (`arn:<partition>:securityhub:<region>::product/aws/<name>`). */
const AWS_PRODUCT = /^arn:[\w-]+:securityhub:[a-z0-9-]+::product\/aws\/([\w-]+)$/;

/** Access Analyzer files its findings under this type's last part. */
const EXTERNAL_ACCESS = /(^|\/)External Access Granted$/;

/** Macie's policy findings that say a bucket is public. */
const MACIE_PUBLIC = /(^|\/)Policy:IAMUser[-/]S3(BucketPublic|BlockPublicAccessDisabled)$/;

/**
 * A control's id: `Compliance.SecurityControlId` (consolidated findings),
 * else `ProductFields.ControlId` (per-standard findings), else the end of
 * the generator id (`security-control/S3.2`, `.../v/1.0.0/S3.2`).
 */
export function controlIdOf(finding: AsffFinding): string | undefined {
  const fromCompliance = finding.Compliance?.SecurityControlId;
  if (fromCompliance !== undefined) return fromCompliance;
  const fromProduct = finding.ProductFields?.ControlId;
  if (typeof fromProduct === 'string') return fromProduct;
  return /(?:^security-control|\/v\/[\d.]+)\/([A-Za-z0-9]+\.\d+)$/.exec(finding.GeneratorId)?.[1];
}

/** True when a finding is a control that failed. */
function failed(finding: AsffFinding, controls: readonly string[]): boolean {
  const id = controlIdOf(finding);
  return id !== undefined && controls.includes(id) && finding.Compliance?.Status === 'FAILED';
}

/**
 * Why a finding on `AwsS3Bucket` says the bucket is exposed, or undefined
 * when it does not (a finding of another kind is not an exposure to block).
 * `types` are the provider's.
 */
export function bucketExposure(finding: AsffFinding, types: readonly string[]): string | undefined {
  // A control files its result under Effects/Data Exposure too (S3.2 does), passed or failed.
  const status = finding.Compliance?.Status;
  if (status !== undefined && status !== 'FAILED') return undefined;
  if (types.some((t) => DATA_EXPOSURE_TYPE.test(t))) return 'a data-exposure finding';
  if (failed(finding, PUBLIC_BUCKET_CONTROLS)) {
    return `Security Hub control ${controlIdOf(finding)} failed`;
  }
  const product = AWS_PRODUCT.exec(finding.ProductArn)?.[1];
  if (product === 'access-analyzer' && types.some((t) => EXTERNAL_ACCESS.test(t))) {
    return 'IAM Access Analyzer: external access granted';
  }
  if (product === 'macie' && types.some((t) => MACIE_PUBLIC.test(t))) {
    return 'a Macie policy finding: the bucket is public';
  }
  return undefined;
}

/** An access point's finding is an exposure of its bucket only when control S3.19 failed on it. */
export function accessPointExposure(finding: AsffFinding): string | undefined {
  return failed(finding, [PUBLIC_ACCESS_POINT_CONTROL])
    ? `Security Hub control ${PUBLIC_ACCESS_POINT_CONTROL} failed on an access point of the bucket`
    : undefined;
}

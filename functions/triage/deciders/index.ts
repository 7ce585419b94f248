import type { Finding } from '../parse/finding.js';
import { bucketDecider } from './bucket.js';
import { type BoundDecider, bind } from './decision.js';
import { functionDecider } from './function.js';
import { instanceDecider } from './instance.js';
import { principalDecider } from './principal.js';
import { secretDecider } from './secret.js';

/** The finding's decider: the one place triage dispatches on the playbook. */
export function deciderFor(finding: Finding): BoundDecider {
  switch (finding.playbook) {
    case 'iam-credentials':
      return bind(principalDecider, finding);
    case 'ec2-instance':
      return bind(instanceDecider, finding);
    case 'secret-exposure':
      return bind(secretDecider, finding);
    case 'integration-quarantine':
      return bind(functionDecider, finding);
    case 's3-exposure':
      return bind(bucketDecider, finding);
  }
}

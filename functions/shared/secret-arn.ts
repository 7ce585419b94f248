import { InvalidTaskInputError } from './errors.js';
import { type Incident, requireResource, type Secret } from './incident.js';

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:(\d{12}):secret:[\w/+=.@-]+$/;

/** The incident's secret, refused unless its ARN is a secret of the incident's account. */
export function secretOfIncident(incident: Incident, action: string): Secret {
  const secret = requireResource(incident, 'secret', action);
  if (SECRET_ARN.exec(secret.arn)?.[1] !== incident.account) {
    throw new InvalidTaskInputError(
      `${action}: ${JSON.stringify(secret.arn)} is not a secret ARN of account ${incident.account}`,
    );
  }
  return secret;
}

import { STATUS_CODES } from 'node:http';

/** One field that failed validation and the rule it broke. */
export interface FieldIssue {
  field: string;
  rule: string;
  message: string;
}

/** The one shape of every error the service answers with. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  issues?: FieldIssue[];
  requestId?: string;
}

export function errorBody(statusCode: number, message: string, extra: Partial<ErrorBody> = {}): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, ...extra };
}

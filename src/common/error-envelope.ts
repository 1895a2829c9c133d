import { STATUS_CODES } from 'node:http';
import { z } from 'zod';

/** One field that failed validation and the rule it broke. */
export const fieldIssueSchema = z.object({
  field: z.string().describe('dotted path, e.g. numbers.3 or query.limit'),
  rule: z.string().describe('the rule broken, e.g. too_big, invalid_type, unknown_field'),
  message: z.string(),
});
export type FieldIssue = z.infer<typeof fieldIssueSchema>;

/** The one shape of every error the service answers with. */
export const errorBodySchema = z
  .object({
    statusCode: z.int(),
    error: z.string(),
    message: z.string(),
    issues: z.array(fieldIssueSchema).optional(),
    requestId: z.string().optional().describe('the X-Request-Id of the request'),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof errorBodySchema>;

export function errorBody(statusCode: number, message: string, extra: Partial<ErrorBody> = {}): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, ...extra };
}

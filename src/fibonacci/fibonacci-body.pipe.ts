import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { KindBodyPipe } from '../jobs/job-options';
import { estimateResultBytes } from './fibonacci.planner';
import { type FibonacciLimits, fibonacciRequestSchema } from './fibonacci.schema';

@Injectable()
export class FibonacciBodyPipe extends KindBodyPipe<ReturnType<typeof fibonacciRequestSchema>> {
  protected readonly schema;
  private readonly limits: FibonacciLimits;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super();
    this.limits = { maxN: config.FIB_MAX_N, maxNumbers: config.FIB_MAX_NUMBERS, maxResultBytes: config.FIB_MAX_RESULT_BYTES };
    this.schema = fibonacciRequestSchema(this.limits);
  }

  /**
   * A valid `{"numbers": [...]}` is accepted by one plain loop: zod checks each of 100,000 numbers
   * through its generic machinery, a measurable share of a big batch's main-thread time. Anything
   * the loop does not accept as is goes through the schema, which names the field and the rule.
   */
  override transform(value: unknown): number[] {
    return validNumbers(value, this.limits) ?? super.transform(value);
  }
}

/** The numbers of a body the schema would accept unchanged, or undefined to let the schema judge. */
export function validNumbers(body: unknown, { maxN, maxNumbers, maxResultBytes }: FibonacciLimits): number[] | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'numbers') return undefined;
  const numbers = (body as { numbers: unknown }).numbers;
  if (!Array.isArray(numbers) || numbers.length === 0 || numbers.length > maxNumbers) return undefined;
  for (const n of numbers) if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > maxN) return undefined;
  return estimateResultBytes(numbers) <= maxResultBytes ? (numbers as number[]) : undefined;
}

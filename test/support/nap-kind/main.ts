/** The service with the test-only nap kind added (started by start.cjs, which compiles the sources). */
import 'reflect-metadata';
import { BUILT_IN_KINDS } from '../../../src/kinds';
import { serve } from '../../../src/serve';
import { NapKindModule } from './nap.module';

void serve({ kinds: [...BUILT_IN_KINDS, NapKindModule] });

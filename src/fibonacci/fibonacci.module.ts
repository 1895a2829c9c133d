import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { FibonacciBodyPipe } from './fibonacci-body.pipe';
import { FibonacciController } from './fibonacci.controller';
import { FibonacciKind } from './fibonacci.kind';

@Module({
  imports: [JobsModule],
  controllers: [FibonacciController],
  providers: [FibonacciKind, FibonacciBodyPipe],
})
export class FibonacciModule {}

import { InstanceRegistry, type InstanceView } from '../../pool/instance-registry';

/** The embedded mode: one instance, nothing shared. */
export class MemoryInstanceRegistry extends InstanceRegistry {
  async list(): Promise<InstanceView[]> {
    return [{ ...this.local.snapshot(), self: true }];
  }
}

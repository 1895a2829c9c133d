import { MemoryJobStore } from '../src/jobs/memory-job.store';
import { jobStoreContract } from './contracts/job-store.contract';

jobStoreContract('MemoryJobStore', async (retention) => {
  const store = new MemoryJobStore(retention);
  // One process holds one memory store: a second handle on the same backend is the same store.
  return { store, peer: async () => store, cleanup: () => store.close() };
});

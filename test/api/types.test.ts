import { describe, expectTypeOf, it } from 'vitest';
import type { EventBatchResponse, RecommendationResponse } from '../../src/api/types.js';
import type { IngestReply } from '../../src/app/collector.js';
import type { RecResponse } from '../../src/app/serving.js';

// Checked by the type checker (`npm run typecheck`): what the use cases return is what the API
// promises its clients (src/api/types.ts). Fields may be added to the use cases' results; a
// change that breaks a client's type fails here.
describe('the API response types', () => {
  it('fit what the use cases return', () => {
    expectTypeOf<RecResponse>().toExtend<RecommendationResponse>();
    expectTypeOf<IngestReply>().toExtend<EventBatchResponse>();
  });
});

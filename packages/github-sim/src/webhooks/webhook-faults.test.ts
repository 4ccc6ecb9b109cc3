import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebhookFaults } from './webhook-faults.ts';

const queued = { event: 'workflow_job', action: 'queued', redelivery: false };

test('a fraction at random: each delivery is dropped when the draw falls under the probability', () => {
  const draws = [0.1, 0.9, 0.29, 0.3, 0.05];
  const faults = new WebhookFaults(() => draws.shift()!);
  faults.add({ probability: 0.3, statusCode: 502 });
  assert.deepEqual([1, 2, 3, 4, 5].map(() => faults.take(queued)?.statusCode ?? null), [502, null, 502, null, 502]);
});

test('the next N, of one event, action or kind of attempt; then the rule ends', () => {
  const faults = new WebhookFaults();
  faults.add({ times: 2, action: 'queued', redelivery: false });
  assert.equal(faults.take({ ...queued, action: 'completed' }), undefined);
  assert.equal(faults.take({ ...queued, redelivery: true }), undefined);
  assert.deepEqual(faults.take(queued), { statusCode: 0 });
  assert.deepEqual(faults.take(queued), { statusCode: 0 });
  assert.equal(faults.take(queued), undefined);
  const remove = faults.add({});
  assert.ok(faults.take({ event: 'ping', action: null, redelivery: false }));
  remove();
  assert.equal(faults.take(queued), undefined);
  assert.throws(() => faults.add({ probability: 1.5 }));
  assert.throws(() => faults.add({ times: 0 }));
});

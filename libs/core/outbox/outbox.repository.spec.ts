import { inOutboxOrder, type OutboxRow } from './outbox.repository';

const row = (id: string): OutboxRow => ({ id, jobName: 'j', jobId: `j-${id}`, payload: {}, delayMs: 0 });

describe('inOutboxOrder', () => {
  it('orders claimed rows by id as numbers, past what a double holds exactly', () => {
    const ids = ['10', '9', '9007199254740993', '9007199254740992', '100'];
    expect(inOutboxOrder(ids.map(row)).map((r) => r.id)).toEqual([
      '9',
      '10',
      '100',
      '9007199254740992',
      '9007199254740993',
    ]);
  });
});

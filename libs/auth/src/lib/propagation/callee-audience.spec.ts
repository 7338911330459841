import { calleeAudienceForSubject, matchesSubject } from './callee-audience';

describe(calleeAudienceForSubject.name, () => {
  it('uses the first matching pattern, else the subject’s first token', () => {
    const patterns = {
      'stock.*.reserve': 'inventory',
      'billing.>': 'payments',
      'billing.refund': 'never-reached',
    };

    expect(calleeAudienceForSubject('stock.eu.reserve', patterns)).toBe('inventory');
    expect(calleeAudienceForSubject('billing.refund', patterns)).toBe('payments');
    expect(calleeAudienceForSubject('inventory.reserve', patterns)).toBe('inventory');
    expect(calleeAudienceForSubject('orders', {})).toBe('orders');
  });
});

describe(matchesSubject.name, () => {
  it.each([
    ['inventory.reserve', 'inventory.reserve', true],
    ['inventory.*', 'inventory.reserve', true],
    ['inventory.*', 'inventory.reserve.now', false],
    ['inventory.>', 'inventory.reserve.now', true],
    ['inventory.>', 'inventory', false],
    ['*.reserve', 'inventory.reserve', true],
    ['inventory.reserve', 'inventory', false],
    ['inventory', 'inventory.reserve', false],
  ])('%s matches %s: %s', (pattern, subject, expected) => {
    expect(matchesSubject(pattern, subject)).toBe(expected);
  });
});

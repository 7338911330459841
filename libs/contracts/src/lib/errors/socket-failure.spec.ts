import { isSocketFailure } from './socket-failure';

describe(isSocketFailure.name, () => {
  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'])('counts %s', (code) => {
    expect(isSocketFailure(code)).toBe(true);
  });

  it.each(['28P01', 'AUTHORIZATION_VIOLATION', 'DEPTH_ZERO_SELF_SIGNED_CERT', '', 5, undefined])(
    'does not count %p',
    (code) => {
      expect(isSocketFailure(code)).toBe(false);
    },
  );
});

import { HTTP_ADAPTERS } from '../../test-support/http-adapters';
import { useProbeApp } from '../../test-support/use-probe-app';

// CONTRACT: no response contains a password or a token. On V8, JSON.parse's message quotes the text
// around a syntax error ("Unexpected token 'h', ..."password":hunter2"... is not valid JSON"), and
// Nest answers Express's body-parser failure with that message as is.
describe.each(HTTP_ADAPTERS)('TransportExceptionFilter over HTTP on %s', (adapter) => {
  const { probe, token, bearer } = useProbeApp(adapter, 'filter');

  const post = async (body: string): Promise<{ status: number; text: string }> => {
    const response = await fetch(`${probe().url ?? ''}/probe/forward`, {
      method: 'POST',
      headers: {
        ...bearer(),
        'content-type': 'application/json',
      },
      body,
    });
    return { status: response.status, text: await response.text() };
  };

  // V8 quotes about ten characters on each side of the error: any of the secret's is too many
  it.each([
    ['an unquoted password', '{"email":"a@example.com","password":CorrectHorse9}'],
    ['a token after a stray character', '{"refresh_token":"rt_CorrectHorseBattery"x}'],
  ])('answers malformed JSON with %s 400, quoting none of it', async (_case, body) => {
    const reply = await post(body);

    expect(reply.status).toBe(400);
    expect(reply.text).not.toContain('Corr');
    expect(JSON.parse(reply.text)).toMatchObject({ statusCode: 400, message: expect.stringMatching(/JSON/) });
  });

  it('passes on what JSON.parse says without quoting (a body cut short)', async () => {
    const reply = await post('{"email":"a@example.com","password":"Correct');

    expect(reply.status).toBe(400);
    expect(reply.text).not.toContain('Correct');
  });

  // Fastify answers a URL it cannot route before any filter runs, by default quoting it whole
  // (relayFastifyOptions); Nest's 404 quoted it too (the filter). Express fails to decode a path before
  // any middleware runs, the one that answers the request id included: the filter answers it then.
  it.each([
    ['a bad percent-escape', '/probe/%zz'],
    ['an unknown route', '/nowhere'],
  ])('answers %s without the query string, with a request id', async (_case, path) => {
    const accessToken = token();

    const response = await fetch(`${probe().url ?? ''}${path}?access_token=${accessToken}`);
    const text = await response.text();

    expect([400, 404]).toContain(response.status);
    expect(text).not.toContain(accessToken.slice(-16));
    expect(text).not.toContain('access_token');
    expect(response.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  });

  // CONTRACT: every HTTP response carries the caller's valid request id, else a new one
  it.each([
    ['a path that does not decode', '/probe/%zz', undefined],
    ['a body that does not parse', '/probe/forward', '{"email":'],
  ])('answers %s with the request id it was sent', async (_case, path, body) => {
    const response = await fetch(`${probe().url ?? ''}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...bearer(), 'content-type': 'application/json', 'x-request-id': 'req-42.a:b' },
      body,
    });
    await response.text();

    expect(response.status).toBe(400);
    expect(response.headers.get('x-request-id')).toBe('req-42.a:b');
  });
});

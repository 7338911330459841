import { BadRequestException } from '@nestjs/common';
import { IsString } from 'class-validator';

import { natsMicroserviceOptions } from './nats-microservice-options';
import { MalformedNatsPayload, StrictNatsDeserializer } from './strict-nats-deserializer';
import { StrictValidationPipe } from './strict-validation.pipe';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const packet = (data: unknown, id: unknown = 'id-1'): Uint8Array =>
  text(JSON.stringify({ pattern: 'inventory.reserve', data, id }));

class SkuDto {
  @IsString()
  sku!: string;
}

describe(StrictNatsDeserializer.name, () => {
  const deserializer = new StrictNatsDeserializer();
  const request = { channel: 'inventory.reserve', replyTo: '_INBOX.1' };

  it('is what natsMicroserviceOptions uses', () => {
    const server = natsMicroserviceOptions({ url: 'nats://127.0.0.1:4222', name: 'orders' })
      .strategy as unknown as {
      deserializer?: unknown;
    };

    expect(server.deserializer).toBeInstanceOf(StrictNatsDeserializer);
  });

  it('passes a Nest packet through, pattern from the subscribed channel', () => {
    expect(deserializer.deserialize(packet({ sku: 'a' }), request)).toEqual({
      pattern: 'inventory.reserve',
      data: { sku: 'a' },
      id: 'id-1',
    });
    expect(deserializer.deserialize(packet({ sku: 'a' }, 7), request)).toEqual(
      expect.objectContaining({ id: '7' }),
    );
    expect(deserializer.deserialize(text('{"pattern":"x"}'), request)).toEqual(
      expect.objectContaining({ data: {} }),
    );
  });

  it('keeps events (no reply inbox, no id) as events', () => {
    expect(deserializer.deserialize(text('{"pattern":"x","data":{}}'), { channel: 'x' })).toEqual({
      pattern: 'x',
      data: {},
    });
  });

  const huge = packet({ items: Array.from({ length: 1001 }, () => 1) });
  it.each<[string, Uint8Array, RegExp]>([
    ['bytes that are not JSON', text('{"pattern": nope'), /must be JSON/],
    ['invalid UTF-8', new Uint8Array([0xff, 0xfe, 0x7b]), /must be JSON/],
    ['an empty message', new Uint8Array(), /must be JSON/],
    ['a JSON number', text('42'), /JSON object/],
    ['a JSON array', text('[1,2]'), /JSON object/],
    ['data null', packet(null), /data must be a JSON object/],
    ['data a string', packet('sku'), /data must be a JSON object/],
    ['data an array', packet([{ sku: 'a' }]), /data must be a JSON object/],
    ['a huge array', huge, /limited to 1000/],
    [
      'a "__proto__" key',
      text('{"pattern":"p","id":"p1","data":{"sku":"a","__proto__":{"isAdmin":true}}}'),
      /__proto__/,
    ],
  ])('turns %s into a MalformedNatsPayload that still gets an answer', (_name, bytes, reason) => {
    const message = deserializer.deserialize(bytes, request);

    expect(message.data).toBeInstanceOf(MalformedNatsPayload);
    expect((message.data as MalformedNatsPayload).reason).toMatch(reason);
    expect('id' in message && typeof message.id === 'string').toBe(true);
  });

  it('never pollutes prototypes', () => {
    deserializer.deserialize(text('{"data":{"__proto__":{"polluted":true}}}'), request);

    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe(StrictValidationPipe.name, () => {
  const pipe = new StrictValidationPipe();
  const metadata = { type: 'body' as const, metatype: SkuDto };

  it('answers a MalformedNatsPayload with 400 and its reason', async () => {
    await expect(pipe.transform(new MalformedNatsPayload('payload must be JSON'), metadata)).rejects.toThrow(
      new BadRequestException('Malformed message: payload must be JSON'),
    );
  });

  it('validates strictly otherwise: transforms, refuses unknown fields', async () => {
    await expect(pipe.transform({ sku: 'a' }, metadata)).resolves.toBeInstanceOf(SkuDto);
    await expect(pipe.transform({ sku: 'a', extra: 1 }, metadata)).rejects.toBeInstanceOf(
      BadRequestException,
    );
  });
});

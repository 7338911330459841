import 'reflect-metadata';

import { BadRequestException } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsString, ValidateNested } from 'class-validator';

import { StrictValidationPipe } from './strict-validation.pipe';

class Line {
  @IsString()
  sku!: string;
}

class Order {
  @IsString()
  note!: string;

  @ValidateNested({ each: true })
  @Type(() => Line)
  lines!: Line[];
}

/** The messages of the 400 the pipe answers `value` with, as a client reads them. */
async function messages(value: unknown): Promise<string[]> {
  const refusal = await new StrictValidationPipe().transform(value, { type: 'body', metatype: Order }).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(refusal).toBeInstanceOf(BadRequestException);
  return ((refusal as BadRequestException).getResponse() as { message: string[] }).message;
}

describe(StrictValidationPipe.name, () => {
  it('refuses an unknown field, saying where it was but not its name', async () => {
    expect(await messages({ note: 'n', lines: [], colour: 'red' })).toEqual([
      'an unknown property should not exist',
    ]);
    expect(await messages({ note: 'n', lines: [{ sku: 'a', size: 2 }] })).toEqual([
      'lines.0.an unknown property should not exist',
    ]);
  });

  // curl -d '{"password":…}' or -d "$REFRESH_TOKEN" without a content type sends the text as one form
  // field (Express parses forms): its name is the whole text, and a 400 naming it would send it back
  it.each([
    ['a JSON text sent as a form', '{"email":"a@example.com","password":"CorrectHorse9"}', 'CorrectHorse9'],
    ['a bare refresh token sent as a form', 'Zq3k9VxR2mT8pLw4Yc7NbH1sDf6GjK0aE5uI-oXy_Qr', 'Zq3k9VxR2mT8'],
    ['a bare password sent as a form', 'CorrectHorseBattery9', 'CorrectHorse'],
  ])('does not send back %s', async (_, field, secret) => {
    const refused = await messages({ note: 'n', lines: [], [field]: '' });

    expect(refused).toEqual(['an unknown property should not exist']);
    expect(JSON.stringify(refused)).not.toContain(secret);
  });

  it('still refuses the other fields with their own messages', async () => {
    expect(await messages({ note: 5, lines: [] })).toEqual(['note must be a string']);
  });
});

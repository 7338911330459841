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
  it('names an unknown field that looks like a field name', async () => {
    expect(await messages({ note: 'n', lines: [], colour: 'red' })).toEqual([
      'property colour should not exist',
    ]);
    expect(await messages({ note: 'n', lines: [{ sku: 'a', size: 2 }] })).toEqual([
      'lines.0.property size should not exist',
    ]);
  });

  // curl -d '{"password":…}' without a content type sends the JSON text as one form field: its name is
  // the whole text, password and all, and a 400 naming it would send the password back
  it('does not name an unknown field whose name is not a field name', async () => {
    const leaked = '{"email":"a@example.com","password":"CorrectHorse9"}';

    const refused = await messages({ note: 'n', lines: [], [leaked]: '' });

    expect(refused).toEqual(['an unknown property should not exist']);
    expect(JSON.stringify(refused)).not.toContain('CorrectHorse9');
  });

  it('still refuses the other fields with their own messages', async () => {
    expect(await messages({ note: 5, lines: [] })).toEqual(['note must be a string']);
  });
});

import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import { Public } from '../decorators/public.decorator';
import { Roles } from '../decorators/roles.decorator';
import { Scopes } from '../decorators/scopes.decorator';
import { accessPolicyOf } from './access-policy';

class BaseController {
  read(): string {
    return 'read';
  }

  @Scopes('inventory:write')
  write(): string {
    return 'write';
  }
}

@Roles('admin')
class AdminController extends BaseController {}

@Public()
class OpenController extends BaseController {}

function contextOf(controller: typeof BaseController, handler: () => string): ExecutionContext {
  return { getClass: () => controller, getHandler: () => handler } as unknown as ExecutionContext;
}

describe(accessPolicyOf.name, () => {
  it('reads a handler once and answers every later call from memory', () => {
    const reflector = new Reflector();
    const reads = jest.spyOn(reflector, 'getAllAndOverride');
    const context = contextOf(AdminController, AdminController.prototype.write);

    const first = accessPolicyOf(reflector, context);
    const readsForFirst = reads.mock.calls.length;
    const again = accessPolicyOf(reflector, context);

    expect(first).toEqual({ isPublic: false, roles: ['admin'], scopes: ['inventory:write'] });
    expect(again).toBe(first);
    expect(readsForFirst).toBe(3);
    expect(reads).toHaveBeenCalledTimes(3);
  });

  it("gives a handler inherited by two controllers each controller's policy, in any order of calls", () => {
    const reflector = new Reflector();
    const handler = BaseController.prototype.read;

    const policies = [AdminController, OpenController, AdminController, OpenController].map((controller) =>
      accessPolicyOf(reflector, contextOf(controller, handler)),
    );

    expect(policies).toEqual([
      { isPublic: false, roles: ['admin'], scopes: [] },
      { isPublic: true, roles: [], scopes: [] },
      { isPublic: false, roles: ['admin'], scopes: [] },
      { isPublic: true, roles: [], scopes: [] },
    ]);
  });

  it('never makes a handler public that names scopes, even in a @Public() controller', () => {
    const policy = accessPolicyOf(new Reflector(), contextOf(OpenController, OpenController.prototype.write));

    expect(policy).toEqual({ isPublic: false, roles: [], scopes: ['inventory:write'] });
  });

  // a handler's list overrides its controller's: an empty one would let any caller into an admin route
  it.each([
    ['an empty @Roles()', (): unknown => Roles()],
    ['an empty @Scopes()', (): unknown => Scopes()],
    ['@Roles() of an empty name', (): unknown => Roles('admin', '')],
    ['@Scopes() spread from an empty list', (): unknown => Scopes(...([] as string[]))],
  ])('refuses %s when the class is defined', (_case, decorate) => {
    expect(decorate).toThrow(/needs one or more non-empty names/);
  });
});

import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';

/** The probe's pattern: registered with the app's handlers, never subscribed on the bus. */
export const GUARD_PROBE_PATTERN = 'relay.guard-probe';
/** What the probe answers when it is reached, i.e. when no guard stood in the way. */
export const UNGUARDED_ANSWER = 'reached without a token';

/**
 * A NATS handler that needs a caller, which `RelayServerNats` calls once without a token before it
 * subscribes anything. Answered, it proves that the app's global `AccessTokenGuard` does not reach
 * the NATS handlers (the microservice was connected without `{ inheritAppConfig: true }`, so every
 * handler would run for anyone), and the server refuses to start. `AuthModule` declares it unless
 * `installGlobalGuard: false`.
 */
@Controller()
export class GuardProbeController {
  @MessagePattern(GUARD_PROBE_PATTERN)
  probe(): string {
    return UNGUARDED_ANSWER;
  }
}

/**
 * Scopes the issuer grants to service clients (`AUTH_CLIENTS`) for calls made with their own
 * client_credentials token, not on behalf of a user.
 */
export const ServiceScopes = {
  /** orders → inventory: release any user's reservation (after timeouts and crashes). */
  inventoryRelease: 'inventory:release',
  /** inventory → orders: acknowledge a reservation (`inventory.reserved`). */
  ordersAcknowledge: 'orders:acknowledge',
} as const;

export type ServiceScope = (typeof ServiceScopes)[keyof typeof ServiceScopes];

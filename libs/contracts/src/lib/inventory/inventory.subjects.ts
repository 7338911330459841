/** NATS subjects served by inventory; producer and consumer share this one map. */
export const InventorySubjects = {
  reserve: 'inventory.reserve',
  release: 'inventory.release',
  stock: 'inventory.stock',
  reserved: 'inventory.reserved',
} as const;

export type InventorySubject = (typeof InventorySubjects)[keyof typeof InventorySubjects];

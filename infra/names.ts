/** A function's name as a construct id or a parameter name: `rollback-lock-secret` becomes `RollbackLockSecret`. */
export function pascal(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
}

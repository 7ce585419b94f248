/** A definition the diagram generator cannot draw faithfully: it stops rather than guess. */
export class DiagramError extends Error {
  override readonly name = 'DiagramError';
}

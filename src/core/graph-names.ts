/** How quanta and datasets are named in text: `task@dataId` / `type@dataId`, bare for the empty data ID. */
export function formatRef(name: string, key: string): string {
  return key === "" ? name : `${name}@${key}`;
}

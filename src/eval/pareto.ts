/** Points not dominated on (lower cost, higher quality): one flag per point, in input order. */
export function paretoFlags<T>(points: T[], cost: (p: T) => number, quality: (p: T) => number): boolean[] {
  return points.map(
    (p) => !points.some((o) => o !== p && cost(o) <= cost(p) && quality(o) >= quality(p) && (cost(o) < cost(p) || quality(o) > quality(p))),
  );
}

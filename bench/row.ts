/** A row of the benchmark's table (`npm run bench`, bench/poll/run.ts): a figure, its floor, the ratio, the goal and whether it is met. */
export interface Row {
  figure: string;
  value: string;
  floor: string;
  ratio: string;
  goal: string;
  /** `yes`, empty for a figure without a goal, or `NO…` with the reason in words. */
  met: string;
}

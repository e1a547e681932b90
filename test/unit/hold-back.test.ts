/** The legacy hold-back: which second a poll at a given instant may serve. */
import { HOLD_BACK_MARGIN_MS, newestServableSecond } from '../../lambda/domain/find-group-chat';

describe('newestServableSecond', () => {
  const T = 1_719_283_991;

  it('serves second T only once T has passed and the margin after it too', () => {
    expect(newestServableSecond((T + 1) * 1000 + HOLD_BACK_MARGIN_MS - 1)).toBe(T - 1);
    expect(newestServableSecond((T + 1) * 1000 + HOLD_BACK_MARGIN_MS)).toBe(T);
  });

  it('moves with the margin it is given', () => {
    expect(newestServableSecond((T + 1) * 1000, 0)).toBe(T);
    expect(newestServableSecond((T + 1) * 1000 + 2999, 3000)).toBe(T - 1);
  });
});

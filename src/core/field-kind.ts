/** What a row holds in a filter column (src/store/filter-columns.ts): nothing (the field is missing), null, a number or a string. */
export const MISSING = 0;
export const NULL = 1;
export const NUM = 2;
export const STR = 3;

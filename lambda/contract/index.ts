/**
 * The contract between the functions, the stack, local runs, benchmarks and tests: routes, env-var
 * names, metric names, the table schema and the API's types. Types and constants only: importing it
 * runs nothing, so `cdk synth` never loads runtime code.
 */
export * from './api';
export * from './env';
export * from './metrics';
export * from './push';
export * from './routes';
export * from './table';

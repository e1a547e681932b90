/**
 * The dependency rule, checked by `npm test` (dependency-cruiser):
 *   handlers → http → domain → ports ← data, and every layer may use the contract.
 * lib/ (the stack) sees only the contract; local/ and bench/ see the contract and public entry points.
 */
const LAMBDA_PUBLIC = '^lambda/(contract/|domain/|data/index\\.ts$|handlers/|http/envelope\\.ts$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Cycles hide which layer depends on which.', from: {}, to: { circular: true } },
    {
      name: 'contract-is-pure',
      severity: 'error',
      comment: 'The contract is types and constants: it imports nothing, so importing it runs nothing.',
      from: { path: '^lambda/contract/' },
      to: { pathNot: '^lambda/contract/' },
    },
    {
      name: 'ports-speak-contract-only',
      severity: 'error',
      comment: 'Ports are interfaces and errors in the API\'s terms: no storage, no HTTP, no domain logic.',
      from: { path: '^lambda/ports/' },
      to: { pathNot: '^lambda/(ports|contract)/' },
    },
    {
      name: 'domain-is-plain-typescript',
      severity: 'error',
      comment: 'The domain knows its ports and errors, never HTTP, DynamoDB or any package (Node built-ins aside).',
      from: { path: '^lambda/domain/' },
      to: { pathNot: '^lambda/(domain|ports|contract)/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'data-implements-ports',
      severity: 'error',
      comment: 'The data layer implements the ports; it knows neither the domain nor HTTP.',
      from: { path: '^lambda/data/' },
      to: { path: '^lambda/(domain|http|handlers)/' },
    },
    {
      name: 'http-knows-no-storage',
      severity: 'error',
      comment: 'The HTTP layer turns requests into domain calls and errors into status codes; storage is wired in by the handlers.',
      from: { path: '^lambda/http/' },
      to: { path: '^(lambda/(data|handlers)/|node_modules/@aws-sdk/)' },
    },
    {
      name: 'only-data-uses-the-sdk',
      severity: 'error',
      comment: 'Only lambda/data imports the AWS SDK.',
      from: { path: '^lambda/', pathNot: '^lambda/data/' },
      to: { path: '^node_modules/@aws-sdk/' },
    },
    {
      name: 'handlers-are-entry-points',
      severity: 'error',
      comment: 'A handler is a function\'s entry: nothing in lambda/ imports one.',
      from: { path: '^lambda/', pathNot: '^lambda/handlers/' },
      to: { path: '^lambda/handlers/' },
    },
    {
      name: 'functions-stand-alone',
      severity: 'error',
      comment: 'What is deployed imports nothing of the stack, the local tools, the benchmarks or the tests.',
      from: { path: '^lambda/' },
      to: { path: '^(lib|local|bench|test|bin)/' },
    },
    {
      name: 'stack-sees-the-contract-only',
      severity: 'error',
      comment: 'cdk synth must never load runtime code: lib/ and bin/ take routes, env names, metrics and the schema from the contract.',
      from: { path: '^(lib|bin)/' },
      to: { path: '^lambda/', pathNot: '^lambda/contract/' },
    },
    {
      name: 'demo-page-is-browser-code',
      severity: 'error',
      comment: 'local/demo/ is the page npm start serves as is: it talks to the API over HTTP and imports nothing outside its folder.',
      from: { path: '^local/demo/' },
      to: { pathNot: '^local/demo/' },
    },
    {
      name: 'nothing-imports-the-demo-page',
      severity: 'error',
      comment: 'The page\'s files are served (local/demo-page.ts reads them), never imported.',
      from: { pathNot: '^local/demo/' },
      to: { path: '^local/demo/' },
    },
    {
      name: 'tools-use-public-entries',
      severity: 'error',
      comment: 'local/ and bench/ use the contract, the pure domain, the data entry (lambda/data/index.ts), the handlers and the envelope; not keys, items or the HTTP internals.',
      from: { path: '^(local|bench)/' },
      to: { path: '^lambda/', pathNot: LAMBDA_PUBLIC },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(cdk\\.out|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: false,
  },
};

import { ENV } from '../../lambda/contract';

// One EMF line per request would flood the output; test/integration/observability.test.ts turns them on.
process.env[ENV.metricsDisabled] = 'true';

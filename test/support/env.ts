// The AWS SDK warns about Node.js 20 on every client; in tests that is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// One EMF line per request would flood the output; test/integration/observability.test.ts turns them on.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

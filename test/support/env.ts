// The AWS SDK warns about Node.js 20 on every client; in tests that is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

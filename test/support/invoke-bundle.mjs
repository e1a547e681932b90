// Loads a built Lambda bundle in a fresh Node.js process, as the Lambda runtime (and sam local
// invoke) would, calls its handler with each event file, and prints one JSON result per line.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, ...eventFiles] = process.argv.slice(2);
const { handler } = await import(pathToFileURL(bundle).href);
for (const file of eventFiles) {
  const deadline = Date.now() + 10_000;
  const context = {
    awsRequestId: `bundle-${Date.now()}`,
    functionName: 'bundle',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  const result = await handler(JSON.parse(readFileSync(file, 'utf8')), context);
  process.stdout.write(`${JSON.stringify({ file, result })}\n`);
}

/** The tools run on the functions' runtime: `npm test` (and every npm script) uses the Node.js the project brings (devDependency `node`). */
import { LAMBDA_RUNTIME } from '../../lib/bundling';

test("runs on the Lambda runtime's Node.js major", () => {
  const lambdaMajor = Number(/^nodejs(\d+)\.x$/.exec(LAMBDA_RUNTIME.name)?.[1]);
  expect(Number(process.versions.node.split('.')[0])).toBe(lambdaMajor);
});

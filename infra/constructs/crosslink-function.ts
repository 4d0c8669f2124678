/**
 * One Crosslink Lambda: a handler file from `functions/` bundled by esbuild, Node.js 22 on arm64,
 * source maps on, Powertools settings in the environment, its own log group and its own role that
 * may write only to that log group. Everything else a function may touch is granted by the caller.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Where the handlers and the lock file are; shared by every function of the stack. */
export interface FunctionSource {
  /** The repository root (holds package-lock.json). */
  projectRoot: string;
  /** The folder of the handler files, usually `<projectRoot>/functions`. */
  functionsDir: string;
}

/** What every function of the stack shares. */
export interface FunctionDefaults {
  source: FunctionSource;
  /** The environment every handler reads (lib/runtime/config.ts fails fast without it). */
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
}

/** Props of {@link CrosslinkFunction}. */
export interface CrosslinkFunctionProps {
  defaults: FunctionDefaults;
  /** The handler file's name inside `functionsDir`, e.g. `platform-api.ts`. */
  entry: string;
  /** The exported handler (default `handler`). */
  handlerExport?: string;
  description: string;
  /** The Powertools service name, also the metrics dimension `service`. */
  serviceName: string;
  /** Variables beyond the shared ones. */
  environment?: Record<string, string>;
  timeout: Duration;
  memorySize: number;
}

/** The runtime every Crosslink function runs on. */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_22_X;

/** A NodejsFunction with Crosslink's defaults. `fn` is the function; grant to it as to any function. */
export class CrosslinkFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CrosslinkFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.defaults.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    // A role of its own instead of AWSLambdaBasicExecutionRole: logs go to this group and nowhere else.
    const role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: `${props.description} (execution role)` });
    this.logGroup.grantWrite(role);

    this.fn = new NodejsFunction(this, 'Function', {
      entry: path.join(props.defaults.source.functionsDir, props.entry),
      handler: props.handlerExport ?? 'handler',
      projectRoot: props.defaults.source.projectRoot,
      depsLockFilePath: path.join(props.defaults.source.projectRoot, 'package-lock.json'),
      description: props.description,
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role,
      logGroup: this.logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: 'Crosslink',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.defaults.environment,
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        // The SDK is bundled at the version package-lock.json pins, not the runtime's.
        externalModules: [],
        mainFields: ['module', 'main'],
        // CommonJS dependencies (graphology, the SDK's helpers) call require(); give the ESM bundle one.
        banner: "import { createRequire as __crosslinkCreateRequire } from 'node:module'; const require = __crosslinkCreateRequire(import.meta.url);",
      },
    });
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Pinned to Node.js 22 (supported by Lambda into 2027), the version the handlers and the local stack are tested on; moving to a newer runtime is a deliberate, tested change of FUNCTION_RUNTIME.',
    });
  }
}

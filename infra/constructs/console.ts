/**
 * The investigator console: a private S3 bucket served by CloudFront through origin access control,
 * with the API proxied under `/v1/*` on the same origin.
 * The built console (`web/dist`) is published when it exists, with a `config.json` telling it where
 * the API and the user pool are; without a build the bucket and distribution are still created.
 */
import * as fs from 'node:fs';
import { Duration, RemovalPolicy, Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';

/** Props of {@link Console}. */
export interface ConsoleProps {
  /** Retention of the deployment handler's log, as for every other log of the stack. */
  logRetention: logs.RetentionDays;
}

export class Console extends Construct {
  readonly bucket: s3.Bucket;
  readonly logBucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  deployment?: s3deploy.BucketDeployment;
  private readonly logRetention: logs.RetentionDays;

  constructor(scope: Construct, id: string, props: ConsoleProps) {
    super(scope, id);
    this.logRetention = props.logRetention;
    this.logBucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront standard logging writes with ACLs.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.logBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the access-log destination of the console bucket and distribution; logging it into itself would loop.',
    });

    this.bucket = new s3.Bucket(this, 'Site', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      lifecycleRules: [
        {
          // Each deploy replaces the console's files and deletes the stale ones; their old versions are only
          // needed to roll back a bad deploy, which 30 days leaves time for (the build itself lives in git).
          noncurrentVersionExpiration: Duration.days(30),
          // Delete markers left once their noncurrent versions have expired hold nothing.
          expiredObjectDeleteMarker: true,
          // An upload cut off mid-deploy leaves parts that are billed but never served.
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'site/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Crosslink investigator console',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
      },
      // No error-page rewriting: the console routes by URL hash, and the API behind /v1/* must keep its statuses.
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'Investigators of a consortium work from many countries; access is controlled by sign-in, not geography.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR2',
      reason: 'The distribution serves static files only; every data request goes to the API, which requires a JWT. A WAF web ACL (about $5/month plus rules) can be attached by operators who want it.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR4',
      reason: 'Without a custom domain CloudFront serves its default *.cloudfront.net certificate, whose security policy cannot be raised; TLSv1.2_2021 applies as soon as a custom domain and certificate are added.',
    });
  }

  /**
   * Serves the API under `/v1/*` on the console's own origin, so that the console calls it with
   * relative paths and needs no CORS. Nothing is cached: the cache policy only carries Authorization
   * (CloudFront forwards that header through a cache policy, never an origin request policy) and
   * Accept-Encoding (likewise) with zero default TTL, and the origin request policy forwards everything
   * else but Host.
   */
  routeApi(httpApi: apigwv2.IHttpApi): void {
    const stack = Stack.of(this);
    const apiDomain = `${httpApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
    const passThrough = new cloudfront.CachePolicy(this, 'ApiPassThrough', {
      comment: 'Crosslink API through the console origin: Authorization forwarded, nothing cached unless the API says so',
      defaultTtl: Duration.seconds(0),
      minTtl: Duration.seconds(0),
      maxTtl: Duration.seconds(1),
      headerBehavior: cloudfront.CacheHeaderBehavior.allowList('Authorization'),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      // The viewer's Accept-Encoding reaches the API, which gzips an export for a caller that accepts it
      // (a Lambda may answer with 6 MB at most: lib/api/file-answer.ts).
      enableAcceptEncodingGzip: true,
    });
    this.distribution.addBehavior('/v1/*', new origins.HttpOrigin(apiDomain, { protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY }), {
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: passThrough,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
    });
  }

  /**
   * Publishes the built console at `assetPath` with `runtimeConfig` as `/config.json`, and returns
   * whether it did: nothing happens when the folder does not exist (the console is not built yet).
   */
  publish(assetPath: string, runtimeConfig: Record<string, string>): boolean {
    if (!fs.existsSync(assetPath)) return false;
    this.deployment = new s3deploy.BucketDeployment(this, 'Publish', {
      sources: [s3deploy.Source.asset(assetPath), s3deploy.Source.jsonData('config.json', runtimeConfig)],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 512,
      // Without it the handler writes to /aws/lambda/<name>, which Lambda creates with no expiry.
      logGroup: new logs.LogGroup(this, 'PublishLogs', { retention: this.logRetention, removalPolicy: RemovalPolicy.DESTROY }),
    });
    this.acknowledgeDeploymentFindings(this.deployment);
    return true;
  }

  // The copy runs in CDK's own singleton Lambda, whose policy and runtime CDK decides.
  private acknowledgeDeploymentFindings(deployment: s3deploy.BucketDeployment): void {
    const role = deployment.handlerRole;
    const handler = role.node.scope;
    if (handler) {
      Validations.of(handler).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'CDK\'s BucketDeployment handler (Python) runs only during deployment to copy the console; its runtime is chosen by aws-cdk-lib and moves with it.',
      });
    }
    const reasons: Record<string, string> = {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]': 'The deployment handler writes its own logs only; AWSLambdaBasicExecutionRole grants nothing else.',
      'AwsSolutions-IAM5[Action::s3:GetBucket*]': 'Reads the CDK asset bucket holding the console build, granted by BucketDeployment.',
      'AwsSolutions-IAM5[Action::s3:GetObject*]': 'Reads the console build from the CDK asset bucket, granted by BucketDeployment.',
      'AwsSolutions-IAM5[Action::s3:List*]': 'Lists the asset bucket and the console bucket to sync them, granted by BucketDeployment.',
      'AwsSolutions-IAM5[Action::s3:Abort*]': 'Writes the console bucket (multipart uploads), granted by BucketDeployment on that bucket only.',
      'AwsSolutions-IAM5[Action::s3:DeleteObject*]': 'Removes stale console files from the console bucket only.',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]': 'The objects of the CDK bootstrap asset bucket, where the console build is staged.',
      [`AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnResource)}.Arn>/*]`]: 'The objects of the console bucket, which the deployment replaces.',
      'AwsSolutions-IAM5[Resource::*]': 'cloudfront:CreateInvalidation and GetInvalidation, which BucketDeployment grants on * to refresh the console after a deploy; they cannot read or change content.',
    };
    for (const [id, reason] of Object.entries(reasons)) Validations.of(role).acknowledge({ id, reason });
  }

  /** The console's address, `https://<id>.cloudfront.net`. */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }
}

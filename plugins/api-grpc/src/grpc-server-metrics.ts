import { injectable } from 'inversify';
import type { Registry } from 'prom-client';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { CounterFamily, GRPC_CODE_NAMES, GrpcCode, HistogramFamily, type CounterSeries, type HistogramSeries, type MetricsCollector } from '@cairn/core';
import type { ServiceError } from './grpc-status.js';
import type { CallHandler, ServiceImplementation } from './server/grpc-http2-server.js';
import type { StreamHandler, UnaryCallback, UnaryHandler } from './server/server-calls.js';

/** Prometheus' default buckets, which go-grpc-prometheus's handling histogram uses. */
const HANDLING_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';
type MethodLabels = 'grpc_type' | 'grpc_service' | 'grpc_method';

/** One method's series, looked up once when its service is added: a call only bumps numbers. */
interface MethodSeries {
  readonly started: CounterSeries;
  /** By gRPC code. */
  readonly handled: readonly CounterSeries[];
  readonly handling: HistogramSeries;
}

/** The code a handler's failure carries (go-grpc-prometheus: a non-status error is Unknown). */
function codeOf(err: Partial<ServiceError> | null | undefined): number {
  if (err === null || err === undefined) return 0;
  const code = err.code;
  return typeof code === 'number' && code >= 0 && code < GRPC_CODE_NAMES.length ? code : GrpcCode.Unknown;
}

const secondsSince = (started: number): number => (performance.now() - started) / 1000;

/**
 * go-grpc-prometheus's server metrics, as etcd exposes them: RPCs started and handled (by code)
 * per type, service and method, every method and code shown from the start at zero; and the
 * handling-time histogram (etcd shows it with --metrics=extensive; the etcd-mixin's slow-request
 * alert reads it). One instance per member, however many gRPC frontends it runs.
 */
@injectable()
export class GrpcServerMetrics implements MetricsCollector {
  private readonly started = new CounterFamily<MethodLabels>({
    name: 'grpc_server_started_total',
    help: 'Total number of RPCs started on the server.',
    labelNames: ['grpc_type', 'grpc_service', 'grpc_method'],
  });
  private readonly handled = new CounterFamily<MethodLabels | 'grpc_code'>({
    name: 'grpc_server_handled_total',
    help: 'Total number of RPCs completed on the server, regardless of success or failure.',
    labelNames: ['grpc_type', 'grpc_service', 'grpc_method', 'grpc_code'],
  });
  private readonly handling = new HistogramFamily<MethodLabels>({
    name: 'grpc_server_handling_seconds',
    help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
    labelNames: ['grpc_type', 'grpc_service', 'grpc_method'],
    buckets: HANDLING_BUCKETS,
  });

  register(registry: Registry): void {
    this.started.register(registry);
    this.handled.register(registry);
    this.handling.register(registry);
  }

  /** `implementation` with every handler of `service` counting its calls. */
  instrument(service: ServiceDefinition, implementation: ServiceImplementation): ServiceImplementation {
    const instrumented: Record<string, CallHandler> = { ...implementation };
    for (const [name, method] of Object.entries(service)) {
      const key = implementation[name] !== undefined ? name : method.originalName;
      const handler = key === undefined ? undefined : implementation[key];
      if (key === undefined || handler === undefined) continue;
      const type: GrpcType = method.requestStream
        ? method.responseStream
          ? 'bidi_stream'
          : 'client_stream'
        : method.responseStream
          ? 'server_stream'
          : 'unary';
      // The path is /package.Service/Method.
      const [, grpcService = '', grpcMethod = name] = /^\/([^/]+)\/([^/]+)$/.exec(method.path) ?? [];
      const series = this.seriesOf({ grpc_type: type, grpc_service: grpcService, grpc_method: grpcMethod });
      instrumented[key] = type === 'unary' || type === 'client_stream' ? countedUnary(handler, series) : countedStream(handler, series);
    }
    return instrumented;
  }

  private seriesOf(labels: Readonly<Record<MethodLabels, string>>): MethodSeries {
    return {
      started: this.started.of(labels),
      handled: GRPC_CODE_NAMES.map((code) => this.handled.of({ ...labels, grpc_code: code })),
      handling: this.handling.of(labels),
    };
  }
}

/** A handler answering through a callback (unary): handled when it calls back. */
function countedUnary(handler: CallHandler, series: MethodSeries): UnaryHandler {
  const serve = handler as UnaryHandler;
  return (call, callback) => {
    series.started.value++;
    const started = performance.now();
    const answer: UnaryCallback = (err, value) => {
      series.handled[codeOf(err)]!.value++;
      series.handling.observe(secondsSince(started));
      callback(err, value);
    };
    serve(call, answer);
  };
}

/** A handler answering on a stream: handled at its status (an error's code, OK at the end) or when the client cancels. */
function countedStream(handler: CallHandler, series: MethodSeries): StreamHandler {
  const serve = handler as StreamHandler;
  return (call) => {
    series.started.value++;
    const started = performance.now();
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      series.handled[code]!.value++;
      series.handling.observe(secondsSince(started));
    };
    call.once('error', (err: Partial<ServiceError>) => finish(codeOf(err)));
    call.once('finish', () => finish(0));
    call.once('cancelled', () => finish(GrpcCode.Canceled));
    serve(call);
  };
}

import {
  Server,
  status,
  type handleBidiStreamingCall,
  type handleUnaryCall,
  type sendUnaryData,
  type ServiceError,
  type ServerOptions,
  type ServiceDefinition,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { injectable } from 'inversify';
import type { Registry } from 'prom-client';
import { CounterFamily, GRPC_CODE_NAMES, HistogramFamily, type CounterSeries, type HistogramSeries, type MetricsCollector } from '@cairn/core';

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
function codeOf(err: Parameters<sendUnaryData<unknown>>[0] | undefined): number {
  if (err === null || err === undefined) return status.OK;
  const code = err.code;
  return typeof code === 'number' && code >= 0 && code < GRPC_CODE_NAMES.length ? code : status.UNKNOWN;
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
  instrument(service: ServiceDefinition, implementation: UntypedServiceImplementation): UntypedServiceImplementation {
    const instrumented: UntypedServiceImplementation = { ...implementation };
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

/** A handler answering through a callback (unary, client stream): handled when it calls back. */
function countedUnary(handler: UntypedHandleCall, series: MethodSeries): UntypedHandleCall {
  const serve = handler as handleUnaryCall<unknown, unknown>;
  const counted: handleUnaryCall<unknown, unknown> = (call, callback) => {
    series.started.value++;
    const started = performance.now();
    const answer: sendUnaryData<unknown> = (err, value, trailer, flags) => {
      series.handled[codeOf(err)]!.value++;
      series.handling.observe(secondsSince(started));
      callback(err, value, trailer, flags);
    };
    serve(call, answer);
  };
  return counted;
}

/** A handler answering on a stream: handled at its status (an error's code, OK at the end) or when the client cancels. */
function countedStream(handler: UntypedHandleCall, series: MethodSeries): UntypedHandleCall {
  // A server stream's call is a Writable, a bidi one's a Duplex: both handlers take just the call, and only its events are used here.
  const serve = handler as handleBidiStreamingCall<unknown, unknown>;
  const counted: handleBidiStreamingCall<unknown, unknown> = (call) => {
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
    call.once('finish', () => finish(status.OK));
    call.once('cancelled', () => finish(status.CANCELLED));
    serve(call);
  };
  return counted;
}

/** A grpc-js Server whose services count their calls in `metrics` (when given) as they are added. */
export class MeteredServer extends Server {
  constructor(
    private readonly serverMetrics: GrpcServerMetrics | undefined,
    options?: ServerOptions,
  ) {
    super(options);
  }

  override addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    super.addService(service, this.serverMetrics === undefined ? implementation : this.serverMetrics.instrument(service, implementation));
  }
}

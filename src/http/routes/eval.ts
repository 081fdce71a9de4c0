import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { filterParam } from '../../search/filter/param.js';
import { parseFunnelSpec } from '../../search/funnel-spec.js';
import type { SearchOptions } from '../../search/options.js';
import type { Job } from '../../eval/jobs.js';
import type { QuerySet } from '../../eval/types.js';
import type { RouteDeps } from '../route-deps.js';
import { DEFAULT_COLLECTION } from '../../context.js';
import { errorResponses } from '../schemas/common.js';
import { EvalQuery, EvalResultSchema, JobReply, SweepBody, SweepResultSchema } from '../schemas/eval.js';

const withUrl = (job: Job) => ({ ...job, statusUrl: `/eval/jobs/${job.id}` });

/** Evaluation (mAP@10, recall against exact, latency) and sweeps with autotuning. */
export const evalRoutes: FastifyPluginAsync<RouteDeps> = async (base, { ctx }) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { evals, engine } = ctx;

  app.get(
    '/eval',
    {
      schema: { tags: ['eval'], querystring: EvalQuery, response: { 200: EvalResultSchema, 202: JobReply, ...errorResponses } },
    },
    async (req, reply) => {
      const { collection = DEFAULT_COLLECTION, queries, limit, sample, seed, funnel, async: background, ...s } = req.query;
      const search: SearchOptions = {
        shortlist: s.shortlist,
        rerank: s.rerank,
        ef: s.ef,
        firstStage: s.firstStage,
        exact: s.exact,
        filter: filterParam(s.filter),
        text: s.text,
      };
      if (funnel !== undefined) search.funnel = parseFunnelSpec(funnel, engine.runtime(collection).record.dim);
      const set: QuerySet | undefined =
        queries !== undefined
          ? { collection: queries, limit }
          : sample !== undefined || seed !== undefined
            ? { sample: sample ?? 1000, seed }
            : undefined;
      const opts = { collection, queries: set, search: Object.fromEntries(Object.entries(search).filter(([, v]) => v !== undefined)) };
      if (background) return reply.code(202).send(withUrl(evals.startJob('eval', opts)));
      return evals.evaluate(opts);
    },
  );

  app.post(
    '/eval/sweep',
    {
      schema: { tags: ['eval'], body: SweepBody, response: { 200: SweepResultSchema, 202: JobReply, ...errorResponses } },
    },
    async (req, reply) => {
      const { collection = DEFAULT_COLLECTION, async: background, ...rest } = req.body;
      const opts = { collection, ...rest };
      if (background) return reply.code(202).send(withUrl(evals.startJob('sweep', opts)));
      return evals.sweep(opts);
    },
  );

  app.get(
    '/eval/jobs/:id',
    {
      schema: {
        tags: ['eval'],
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: JobReply, ...errorResponses },
      },
    },
    async (req) => withUrl(evals.jobs.get(req.params.id)),
  );

  app.get(
    '/eval/latest',
    {
      schema: {
        tags: ['eval'],
        querystring: Type.Object(
          { collection: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ eval: Type.Union([EvalResultSchema, Type.Null()]), sweep: Type.Union([SweepResultSchema, Type.Null()]) }),
          ...errorResponses,
        },
      },
    },
    async (req) => evals.latest(req.query.collection ?? DEFAULT_COLLECTION),
  );
};

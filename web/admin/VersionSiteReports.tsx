import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getTemplate } from '../../shared/tasks';
import { getDashboard, getVersionEvaluation, setEvaluationIncluded } from '../api/endpoints';
import { fixed, integer, percent } from '../format';
import { classCount, templateClassNames } from './confusionMatrix';
import { VersionFigures } from './VersionCurves';

/**
 * Each site's report of one version beside the pooled figures. A report far from the other sites'
 * (shared/metrics/outliers.ts) is flagged with the reason and left out of the pooled figures; the
 * admin can count it after all, or leave it out again. Above the table: the version's ROC curve,
 * reliability diagram and confusion matrix, pooled and per site (VersionCurves.tsx), with the class
 * names of the study's template.
 */
export function VersionSiteReports(props: { studyId: string; version: number; refreshKey: string; templateId?: string }) {
  const { studyId, version, refreshKey } = props;
  const queryClient = useQueryClient();
  const evaluation = useQuery({ queryKey: ['evaluation', studyId, version, refreshKey], queryFn: () => getVersionEvaluation(studyId, version) });
  // Without a template from the caller, the study's own: the dashboard's query, already in the cache (useLiveDashboard.ts).
  const dashboard = useQuery({ queryKey: ['dashboard', studyId], queryFn: () => getDashboard(studyId), staleTime: Infinity, enabled: props.templateId === undefined });
  const templateId = props.templateId ?? dashboard.data?.study.templateId;
  const include = useMutation({
    mutationFn: (v: { participantId: string; include: boolean }) => setEvaluationIncluded(studyId, version, v.participantId, v.include),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['evaluation', studyId, version] });
      void queryClient.invalidateQueries({ queryKey: ['versions', studyId] });
    },
  });
  if (evaluation.isError)
    return (
      <p role="alert" className="error-text">
        Could not load the sites’ reports: {evaluation.error.message}
      </p>
    );
  if (!evaluation.data) return <p className="muted small">Loading the sites’ reports…</p>;
  const sites = evaluation.data.sites;
  if (sites.length === 0) return <p className="muted small">No site has reported on v{version} yet.</p>;
  const metrics = evaluation.data.global ?? sites.find((s) => s.clinical)?.clinical ?? null;
  const classNames = templateClassNames(templateId ? getTemplate(templateId) : undefined, metrics ? classCount(metrics) : 2);
  return (
    <div className="version-detail">
      <VersionFigures evaluation={evaluation.data} classNames={classNames} />
      <table className="site-reports" data-testid="site-reports" aria-label={`Each site’s evaluation of v${version}`}>
        <thead>
          <tr>
            <th scope="col">Site</th>
            <th scope="col" className="num">
              Accuracy
            </th>
            <th scope="col" className="num">
              Loss
            </th>
            <th scope="col" className="num">
              Records
            </th>
            <th scope="col">In the pooled figures</th>
          </tr>
        </thead>
        <tbody>
          {sites.map((s) => (
            <tr key={s.participantId} data-testid="site-report" data-flagged={s.flag !== null}>
              <th scope="row">{s.siteName}</th>
              <td className="num">{percent(s.accuracy)}</td>
              <td className="num">{fixed(s.loss)}</td>
              <td className="num">{integer(s.numSamples)}</td>
              <td>
                {s.flag === null ? (
                  'yes'
                ) : (
                  <>
                    <span className={`badge ${s.pooled ? 'ok' : 'warn'}`}>{s.pooled ? `included by ${s.includedBy}` : 'flagged: left out'}</span>{' '}
                    <span className="small">{s.flag}</span>{' '}
                    <button type="button" className="button" disabled={include.isPending} onClick={() => include.mutate({ participantId: s.participantId, include: !s.pooled })}>
                      {s.pooled ? 'Leave out' : 'Include'}
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
        {include.isError && (
          <caption role="alert" className="error-text">
            {include.error.message}
          </caption>
        )}
      </table>
    </div>
  );
}

import { getTemplate, registerTemplate, taskTemplateSchema, type TaskTemplate } from '../../shared/tasks';
import { apiFetch } from './http';

const loading = new Map<string, Promise<TaskTemplate>>();

/**
 * The template of `id`: a built-in one at once, a custom one (defined in the console) fetched once
 * from the server, checked and registered, so every synchronous `getTemplate` in this page finds it.
 */
export function ensureTemplate(id: string, token?: string): Promise<TaskTemplate> {
  const known = getTemplate(id);
  if (known) return Promise.resolve(known);
  let pending = loading.get(id);
  if (!pending) {
    pending = apiFetch<unknown>(`/api/templates/${encodeURIComponent(id)}`, { token }).then((raw) => {
      const template = taskTemplateSchema.parse(raw);
      if (template.id !== id) throw new Error(`the server sent template '${template.id}' for '${id}'`);
      registerTemplate(template);
      return template;
    });
    pending.catch(() => loading.delete(id));
    loading.set(id, pending);
  }
  return pending;
}

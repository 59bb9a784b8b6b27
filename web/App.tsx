import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { lazy, Suspense, type ReactNode } from 'react';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { LandingPage } from './landing/LandingPage';
import { Layout } from './layout/Layout';
import { NotFoundPage } from './layout/NotFoundPage';

// Hospitals never load the charting code; admins never load the training client.
const AdminPage = lazy(() => import('./admin/AdminPage').then((m) => ({ default: m.AdminPage })));
const HospitalPage = lazy(() => import('./hospital/HospitalPage').then((m) => ({ default: m.HospitalPage })));
const HospitalHome = lazy(() => import('./hospital/HospitalHome').then((m) => ({ default: m.HospitalHome })));
const SignInPage = lazy(() => import('./account/SignInPage').then((m) => ({ default: m.SignInPage })));
const JoinPage = lazy(() => import('./account/JoinPage').then((m) => ({ default: m.JoinPage })));
const ChatPage = lazy(() => import('./chat/ChatPage').then((m) => ({ default: m.ChatPage })));
const ArticlePage = lazy(() => import('./chat/ArticlePage').then((m) => ({ default: m.ArticlePage })));

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { staleTime: 5_000, refetchOnWindowFocus: false, retry: 1 },
  },
});

function Loading({ children }: { children: ReactNode }) {
  return (
    <Suspense
      fallback={
        <section className="panel narrow" aria-busy="true">
          <p className="loading">Loading…</p>
        </section>
      }
    >
      {children}
    </Suspense>
  );
}

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: '/', element: <LandingPage /> },
      {
        path: '/hospital/:token',
        element: (
          <Loading>
            <HospitalPage />
          </Loading>
        ),
      },
      {
        path: '/hospital',
        element: (
          <Loading>
            <HospitalHome />
          </Loading>
        ),
      },
      {
        path: '/signin',
        element: (
          <Loading>
            <SignInPage />
          </Loading>
        ),
      },
      {
        path: '/join/:code',
        element: (
          <Loading>
            <JoinPage />
          </Loading>
        ),
      },
      {
        path: '/admin/sites',
        element: (
          <Loading>
            <AdminPage page="sites" />
          </Loading>
        ),
      },
      {
        path: '/admin/audit',
        element: (
          <Loading>
            <AdminPage page="audit" />
          </Loading>
        ),
      },
      {
        path: '/admin/log',
        element: (
          <Loading>
            <AdminPage page="log" />
          </Loading>
        ),
      },
      {
        path: '/admin',
        element: (
          <Loading>
            <AdminPage />
          </Loading>
        ),
      },
      {
        path: '/admin/templates/new',
        element: (
          <Loading>
            <AdminPage page="designer" />
          </Loading>
        ),
      },
      {
        path: '/admin/new-study',
        element: (
          <Loading>
            <AdminPage page="new-study" />
          </Loading>
        ),
      },
      {
        path: '/chat',
        element: (
          <Loading>
            <ChatPage />
          </Loading>
        ),
      },
      {
        path: '/chat/articles/:slug',
        element: (
          <Loading>
            <ArticlePage />
          </Loading>
        ),
      },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}

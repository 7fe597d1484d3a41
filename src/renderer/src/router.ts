import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router';

// Hash history works the same under app:// (Electron) and http:// (browser mode).
export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/restore' },
  { path: '/restore', name: 'restore', component: () => import('./views/RestoreView.vue'), meta: { title: 'Restore' } },
  { path: '/compare', name: 'compare', component: () => import('./views/CompareView.vue'), meta: { title: 'Compare' } },
  { path: '/train', name: 'train', component: () => import('./views/TrainView.vue'), meta: { title: 'Train' } },
  { path: '/models', name: 'models', component: () => import('./views/ModelsView.vue'), meta: { title: 'Models' } },
  { path: '/settings', name: 'settings', component: () => import('./views/SettingsView.vue'), meta: { title: 'Settings' } },
];

export const router = createRouter({ history: createWebHashHistory(), routes });
